"""The booking flow's steps, one concept per module; bot/flows/book.py declares them as a dialog."""
