"""The fake Telegram is only worth having if it refuses what Telegram refuses: these tests drive it with
the real python-telegram-bot (and raw HTTP for the edges PTB never sends) and check both the happy
path and Telegram's error answers."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
from aiohttp import web
from telegram import (Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaDocument,
                      MessageEntity)
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakes.telegram_server import FakeTelegram, parse_html

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")
T = TypeVar("T")
ANA = 1001


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(private_limit=None) as server:  # the flood tests below build their own fakes
        server.user(ANA)
        server.deliver(server.message(ANA, "/start"))  # Ana opened the chat: the bot may write to her
        yield server


def bot_for(fake: FakeTelegram) -> Bot:
    return Bot(fake.token, base_url=f"{fake.base_url}/bot", base_file_url=f"{fake.base_url}/file/bot")


def run(fake: FakeTelegram, body: Callable[[Bot], Awaitable[T]]) -> T:
    """Run body(bot) with a real, initialised telegram.Bot in a fresh event loop."""
    async def main() -> T:
        async with bot_for(fake) as bot:
            return await body(bot)
    return asyncio.run(main())


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)] for text, data in pairs])


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about the int form
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# ------------------------------------------------------------------------------- send, edit, markup

def test_send_and_edit_are_parsed_by_ptb(fake: FakeTelegram) -> None:
    async def body(bot: Bot) -> None:
        me = await bot.get_me()
        assert (me.id, me.username, me.is_bot) == (123456, "HeadstrtTestBot", True)
        sent = await bot.send_message(ANA, "<b>Hi</b> &amp; <i>bye</i>", parse_mode="HTML",
                                      reply_markup=keyboard(("Yes", "y"), ("No", "n")))
        assert sent.text == "Hi & bye"
        assert [(e.type, e.offset, e.length) for e in sent.entities] == [
            (MessageEntity.BOLD, 0, 2), (MessageEntity.ITALIC, 5, 3)]
        assert sent.reply_markup == keyboard(("Yes", "y"), ("No", "n"))
        edited = await bot.edit_message_text("Done", chat_id=ANA, message_id=sent.message_id)
        assert (edited.text, edited.reply_markup, edited.edit_date is not None) == ("Done", None, True)
        with pytest.raises(BadRequest, match="(?i)message is not modified: specified new message content"):
            await bot.edit_message_text("Done", chat_id=ANA, message_id=sent.message_id)
        again = await bot.edit_message_reply_markup(ANA, sent.message_id, reply_markup=keyboard(("Ok", "ok")))
        assert again.reply_markup == keyboard(("Ok", "ok"))
        with pytest.raises(BadRequest, match="(?i)not modified"):
            await bot.edit_message_reply_markup(ANA, sent.message_id, reply_markup=keyboard(("Ok", "ok")))
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=ANA, message_id=999)
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=ANA, message_id=1)  # Ana's own /start

    run(fake, body)
    last = fake.last(ANA)
    assert (last.text, last.html, last.edits) == ("Done", None, 2)
    assert [v["text"] for v in last.history] == ["Hi & bye", "Done", "Done"]
    assert last.history[0]["html"] == "<b>Hi</b> &amp; <i>bye</i>"
    assert fake.buttons(ANA) == [("Ok", "ok")]
    assert [c.method for c in fake.calls][-7:] == ["sendMessage", "editMessageText", "editMessageText",
                                                   "editMessageReplyMarkup", "editMessageReplyMarkup", "editMessageText",
                                                   "editMessageText"]


def test_unknown_chats_and_people_who_never_wrote_are_refused(fake: FakeTelegram) -> None:
    fake.user(2002, "Bo")

    async def body(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(555, "hi")
        with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
            await bot.send_message(2002, "hi")
        with pytest.raises(BadRequest, match="(?i)message text is empty"):
            await bot.send_message(ANA, "   ")
        fake.group(-100, "Founders")
        assert (await bot.send_message(-100, "hello group")).chat.title == "Founders"

    run(fake, body)


def test_callback_data_is_limited_to_64_bytes(fake: FakeTelegram) -> None:
    async def body(bot: Bot) -> None:
        await bot.send_message(ANA, "ok", reply_markup=keyboard(("A", "é" * 32)))  # 64 bytes
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(ANA, "no", reply_markup=keyboard(("A", "x" * 65)))
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(ANA, "no", reply_markup=keyboard(("A", "é" * 32 + "x")))
        many = InlineKeyboardMarkup([[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)])
        with pytest.raises(BadRequest, match="(?i)reply markup is too long"):
            await bot.send_message(ANA, "no", reply_markup=many)
        with pytest.raises(BadRequest, match="(?i)text buttons are unallowed"):
            await bot.send_message(ANA, "no", reply_markup=keyboard(("", "a")))

    run(fake, body)
    assert [m.text for m in fake.sent(ANA)] == ["ok"]


@pytest.mark.parametrize("text", ["a < b", "<b>open", "<b><i>x</b></i>", "x & y", "&nbsp;", "<br>",
                                  "<span>x</span>", "<a>x</a>", "</b>", "<b "])
def test_bad_html_is_refused(fake: FakeTelegram, text: str) -> None:
    async def body(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="(?i)can't parse entities: "):
            await bot.send_message(ANA, text, parse_mode="HTML")

    run(fake, body)
    assert fake.sent(ANA) == []


def test_escaped_and_rich_html_passes() -> None:
    text, entities = parse_html('a &lt; b &gt; c &amp; &quot;d&quot; &#127881; &#x41; '
                                '<a href="https://x.y/?a=1&amp;b=2">link</a> <span class="tg-spoiler">s</span> '
                                '<pre><code class="language-python">x = 1</code></pre> '
                                '<blockquote expandable>q</blockquote> <tg-emoji emoji-id="5">👍</tg-emoji>')
    assert text.startswith('a < b > c & "d" 🎉 A link s x = 1 q 👍')
    kinds = {e["type"]: e for e in entities}
    assert kinds["text_link"]["url"] == "https://x.y/?a=1&b=2"
    assert kinds["pre"]["language"] == "python" and "code" not in kinds
    assert kinds["text_link"]["offset"] == 21  # 🎉 counts as two UTF-16 units
    assert {"spoiler", "expandable_blockquote", "custom_emoji"} <= set(kinds)


def test_length_is_counted_after_parsing_in_utf16(fake: FakeTelegram) -> None:
    async def body(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(ANA, "a" * 4097)
        await bot.send_message(ANA, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
        await bot.send_message(ANA, "😀" * 2048)
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(ANA, "😀" * 2048 + "a")
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(ANA, "<b>" + "&amp;" * 4097 + "</b>", parse_mode="HTML")

    run(fake, body)
    first, second = fake.sent(ANA)
    assert first.text == "&" * 4096 and second.text == "😀" * 2048


# ------------------------------------------------------------------------------- flood limits

def test_private_chat_limit_answers_retry_after() -> None:
    with FakeTelegram(private_limit=(2, 1.0)) as fake:
        fake.deliver(fake.message(ANA, "/start"))
        fake.group(-7)

        async def body(bot: Bot) -> None:
            await bot.send_message(ANA, "one")
            await bot.send_message(ANA, "two")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(ANA, "three")
            assert retry_seconds(caught.value) == 1
            await bot.send_message(-7, "groups have their own window")
            await bot.send_chat_action(ANA, "typing")  # not a counted call

        run(fake, body)
        assert [m.text for m in fake.sent(ANA)] == ["one", "two"]
        assert [(c.method, c.status, c.params["text"]) for c in fake.throttled] == [("sendMessage", 429, "three")]


def test_window_slides_and_overall_limit_spans_chats() -> None:
    with FakeTelegram(overall_limit=(3, 10.0), private_limit=(1, 0.3)) as fake:
        for user in (1, 2, 3, 4):
            fake.deliver(fake.message(user, "/start"))

        async def body(bot: Bot) -> None:
            await bot.send_message(1, "a")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(1, "b")
            assert retry_seconds(caught.value) == 1  # 0.3 s left, rounded up to whole seconds
            await asyncio.sleep(0.35)
            await bot.send_message(1, "b")
            await bot.send_message(2, "c")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(3, "d")
            assert 9 <= retry_seconds(caught.value) <= 10

        run(fake, body)
        assert len(fake.throttled) == 2


# ------------------------------------------------------------------------------- callback queries

def test_callback_query_can_be_answered_once(fake: FakeTelegram) -> None:
    async def body(bot: Bot) -> None:
        sent = await bot.send_message(ANA, "Pick", reply_markup=keyboard(("A", "a")))
        with pytest.raises(ValueError, match="no button"):
            fake.press(ANA, sent.message_id, "zzz")
        update = fake.press(ANA, sent.message_id, "a")
        query = update["callback_query"]
        assert query["message"]["text"] == "Pick" and query["from"]["id"] == ANA
        assert await bot.answer_callback_query(query["id"], text="Noted")
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query(query["id"])
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query("42")

    run(fake, body)
    assert [a["text"] for a in fake.answered.values()] == ["Noted"]


# ------------------------------------------------------------------------------- updates and webhooks

def test_get_updates_confirms_with_offset_and_long_poll_wakes(fake: FakeTelegram) -> None:
    fake.deliver(fake.message(ANA, "hello"))

    async def body(bot: Bot) -> None:
        first = await bot.get_updates()
        assert [u.message.text for u in first] == ["/start", "hello"]
        assert len(await bot.get_updates(offset=first[0].update_id + 1)) == 1
        assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
        began = time.monotonic()
        waiting = asyncio.create_task(bot.get_updates(offset=first[-1].update_id + 1, timeout=5))
        await asyncio.sleep(0.2)
        assert fake.deliver(fake.message(ANA, "later")) is None  # no webhook: queued
        woken = await waiting
        assert [u.message.text for u in woken] == ["later"] and time.monotonic() - began < 2

    run(fake, body)


def test_a_newer_get_updates_terminates_the_waiting_one(fake: FakeTelegram) -> None:
    async def body(bot: Bot) -> None:
        await bot.get_updates()
        async with bot_for(fake) as other:
            waiting = asyncio.create_task(bot.get_updates(offset=10**9, timeout=5))
            await asyncio.sleep(0.2)
            assert await other.get_updates(offset=10**9) == ()
            with pytest.raises(Conflict, match="terminated by other getUpdates request"):
                await waiting

    run(fake, body)


def test_deliver_posts_to_the_webhook_with_its_secret(fake: FakeTelegram) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=200)

    async def body(bot: Bot) -> None:
        app = web.Application()
        app.router.add_post("/hook", receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        try:
            with pytest.raises(BadRequest):
                await bot.set_webhook(url, secret_token="not allowed!")
            assert await bot.set_webhook(url, secret_token="s3cret_-X", drop_pending_updates=True)
            assert (await bot.get_webhook_info()).url == url
            with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
                await bot.get_updates()
            update = fake.message(ANA, "via hook")
            assert await fake.adeliver(update) == 200
            sent = await bot.send_message(ANA, "Pick", reply_markup=keyboard(("A", "a")))
            assert await asyncio.to_thread(fake.deliver, fake.press(ANA, sent.message_id, "a")) == 200
            assert await bot.delete_webhook()
            assert fake.deliver(fake.message(ANA, "queued")) is None
            assert [u.message.text for u in await bot.get_updates()] == ["queued"]
        finally:
            await runner.cleanup()

    run(fake, body)
    assert [secret for secret, _ in received] == ["s3cret_-X", "s3cret_-X"]
    assert received[0][1]["message"]["text"] == "via hook"
    assert received[1][1]["callback_query"]["data"] == "a"


# ------------------------------------------------------------------------------- files

def test_document_upload_then_get_file_downloads_the_same_bytes(fake: FakeTelegram) -> None:
    data = bytes(range(256)) * 40

    async def body(bot: Bot) -> None:
        sent = await bot.send_document(ANA, document=data, filename="report.bin", caption="<b>Report</b>",
                                       parse_mode="HTML", reply_markup=keyboard(("Got it", "ack")))
        doc = sent.document
        assert (doc.file_name, doc.file_size, sent.caption) == ("report.bin", len(data), "Report")
        assert sent.caption_entities[0].type == MessageEntity.BOLD
        file = await bot.get_file(doc.file_id)
        assert bytes(await file.download_as_bytearray()) == data
        again = await bot.send_document(ANA, document=doc.file_id)  # resend by file_id
        assert again.document.file_id == doc.file_id
        with pytest.raises(BadRequest, match="(?i)invalid file_id"):
            await bot.get_file("NOPE")
        with pytest.raises(BadRequest, match="(?i)caption is too long"):
            await bot.send_document(ANA, document=b"x", filename="x.txt", caption="c" * 1025)
        incoming = fake.message(ANA, "my cv", document=("cv.pdf", b"%PDF-1.4", "application/pdf"))
        received = incoming["message"]["document"]
        assert incoming["message"]["caption"] == "my cv"
        assert bytes(await (await bot.get_file(received["file_id"])).download_as_bytearray()) == b"%PDF-1.4"

    run(fake, body)
    assert fake.last(ANA).document is not None and fake.buttons(ANA) == [("Got it", "ack")]


def test_photos_albums_copies_forwards_and_caption_edits(fake: FakeTelegram) -> None:
    async def body(bot: Bot) -> None:
        photo = await bot.send_photo(ANA, photo=b"\x89PNG fake", filename="p.png", caption="first")
        assert photo.photo[-1].file_size == 9 and photo.caption == "first"
        edited = await bot.edit_message_caption(ANA, photo.message_id, caption="<b>second</b>", parse_mode="HTML")
        assert edited.caption == "second"
        with pytest.raises(BadRequest, match="(?i)no text in the message"):
            await bot.edit_message_text("x", chat_id=ANA, message_id=photo.message_id)
        album = await bot.send_media_group(ANA, [InputMediaDocument(b"one", filename="1.txt"),
                                                 InputMediaDocument(b"two", filename="2.txt", caption="two")])
        assert [m.document.file_name for m in album] == ["1.txt", "2.txt"]
        assert album[0].media_group_id == album[1].media_group_id is not None
        copied = await bot.copy_message(ANA, ANA, album[1].message_id)
        forwarded = await bot.forward_message(ANA, ANA, 1)
        assert forwarded.text == "/start" and forwarded.forward_origin.sender_user.id == ANA
        with pytest.raises(BadRequest, match="(?i)message to copy not found"):
            await bot.copy_message(ANA, ANA, 999)
        assert fake.last(ANA).message_id == forwarded.message_id
        assert [m.message_id for m in fake.sent(ANA)][-2] == copied.message_id

    run(fake, body)
    copied = fake.sent(ANA)[-2]
    assert (copied.document or {}).get("file_name") == "2.txt" and copied.caption == "two"


# ------------------------------------------------------------------------------- commands

def test_set_my_commands_validates_and_stores_per_scope(fake: FakeTelegram) -> None:
    async def body(bot: Bot) -> None:
        assert await bot.set_my_commands([BotCommand("book", "Book a session"), BotCommand("help", "Help")])
        assert await bot.set_my_commands([BotCommand("reservar", "Reservar")], language_code="es")
        assert [c.command for c in await bot.get_my_commands()] == ["book", "help"]
        assert [c.command for c in await bot.get_my_commands(language_code="es")] == ["reservar"]
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Book", "Capital letters")])
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await bot.set_my_commands([BotCommand("x" * 33, "Too long")])
        with pytest.raises(BadRequest, match="(?i)bot_command_description_invalid"):
            await bot.set_my_commands([BotCommand("ok", "")])
        with pytest.raises(BadRequest):
            await bot.set_my_commands([BotCommand("ok", "Ok")], language_code="eng")
        assert await bot.delete_my_commands(language_code="es")
        assert await bot.get_my_commands(language_code="es") == ()

    run(fake, body)
    assert fake.commands == {("default", ""): [{"command": "book", "description": "Book a session"},
                                               {"command": "help", "description": "Help"}]}


# ------------------------------------------------------------------------------- fault injection

def test_fail_next_and_drop_next(fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=500, description="Internal Server Error")
    fake.fail_next("sendmessage", status=429, description="Too Many Requests: retry after 7", retry_after=7)
    fake.drop_next("sendMessage")
    fake.drop_next("sendMessage", perform=True)

    async def body(bot: Bot) -> None:
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(ANA, "1")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(ANA, "2")
        assert retry_seconds(caught.value) == 7
        with pytest.raises((NetworkError, TimedOut)):
            await bot.send_message(ANA, "3")
        with pytest.raises((NetworkError, TimedOut)):
            await bot.send_message(ANA, "4 (sent, but the answer was lost)")
        await bot.send_message(ANA, "5")

    run(fake, body)
    assert [m.text for m in fake.sent(ANA)] == ["4 (sent, but the answer was lost)", "5"]
    assert [c.status for c in fake.calls if c.method == "sendMessage"] == [500, 429, 0, 0, 200]
    with pytest.raises(ValueError):
        fake.fail_next("sendMesage", status=500, description="typo")


def test_delete_and_wait_for(fake: FakeTelegram) -> None:
    async def body(bot: Bot) -> None:
        sent = await bot.send_message(ANA, "bye")
        assert await bot.delete_message(ANA, sent.message_id)
        with pytest.raises(BadRequest, match="(?i)message to delete not found"):
            await bot.delete_message(ANA, sent.message_id)

    run(fake, body)
    assert fake.sent(ANA) == []
    with pytest.raises(AssertionError, match=r"(?s)condition not met.*deleteMessage"):
        fake.wait_for(lambda f: bool(f.sent(ANA)), timeout=0.05)


# ------------------------------------------------------------------------------- raw HTTP edges

def test_raw_http_edges(fake: FakeTelegram) -> None:
    api = f"{fake.base_url}/bot{fake.token}"
    with httpx.Client() as http:
        wrong = http.post(f"{fake.base_url}/bot123456:WRONG/getMe")
        assert (wrong.status_code, wrong.json()) == (401, {"ok": False, "error_code": 401,
                                                          "description": "Unauthorized"})
        missing = http.post(f"{api}/sendTelepathy")
        assert (missing.status_code, missing.json()["description"]) == (404, "Not Found")
        assert http.get(f"{api}/GETME").json()["result"]["username"] == "HeadstrtTestBot"
        as_json = http.post(f"{api}/SENDMESSAGE", json={"chat_id": str(ANA), "text": "json body",
                                                        "reply_markup": {"inline_keyboard": [[
                                                            {"text": "A", "callback_data": "a"}]]}})
        assert as_json.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"
        as_form = http.post(f"{api}/sendMessage", data={"chat_id": ANA, "text": "form body",
                                                        "reply_markup": '{"remove_keyboard": true}'})
        assert as_form.status_code == 200 and "reply_markup" not in as_form.json()["result"]
        broken = http.post(f"{api}/sendMessage", data={"chat_id": ANA, "text": "x", "reply_markup": "{oops"})
        assert broken.json()["description"] == "Bad Request: can't parse reply keyboard markup JSON object"
        mixed = http.post(f"{api}/sendMessage", json={"chat_id": ANA, "text": "x", "reply_markup": {
            "inline_keyboard": [[{"text": "A", "callback_data": "a", "url": "https://x.y"}]]}})
        assert mixed.status_code == 400
        assert http.get(f"{fake.base_url}/file/bot{fake.token}/documents/nothing").status_code == 404
        assert http.get(f"{fake.base_url}/file/botWRONG/documents/nothing").status_code == 401
    assert [m.text for m in fake.sent(ANA)] == ["json body", "form body"]
    assert fake.calls[-1].method == "sendMessage" and fake.calls[-1].status == 400


# ------------------------------------------------------------------------------- a whole Application

def test_a_real_application_polls_replies_and_edits(fake: FakeTelegram) -> None:
    async def start(update: Any, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text("Pick one", reply_markup=keyboard(("A", "a")))

    async def pressed(update: Any, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("ok")
        await update.callback_query.edit_message_text("You picked A")

    async def main() -> None:
        app = (ApplicationBuilder().token(fake.token).base_url(f"{fake.base_url}/bot")
               .base_file_url(f"{fake.base_url}/file/bot").build())
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(pressed))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
            await fake.wait_for_async(lambda f: bool(f.buttons(ANA)))
            fake.deliver(fake.press(ANA, fake.last(ANA).message_id, "a"))
            await fake.wait_for_async(lambda f: f.last(ANA).text == "You picked A")
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()

    asyncio.run(main())
    assert [a["text"] for a in fake.answered.values()] == ["ok"]
    assert fake.last(ANA).reply_markup is None
