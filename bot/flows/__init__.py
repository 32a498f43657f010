"""bot/flows"""
