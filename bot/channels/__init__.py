"""Messaging-platform connectors for Rasa, one module per channel.

| Module | Class (the key in credentials.yml) | Webhook |
|---|---|---|
| `facebook` | `bot.channels.facebook.MessengerInput` | `/webhooks/facebook/webhook` |
| `instagram` | `bot.channels.instagram.InstagramInput` | `/webhooks/instagram/webhook` |
| `whatsapp` | `bot.channels.whatsapp.WhatsAppInput` | `/webhooks/whatsapp/webhook` |
| `twilio` | `bot.channels.twilio.TwilioSmsInput` | `/webhooks/twilio/webhook` |
| `telegram` | `bot.channels.telegram.TelegramBotInput` | `/webhooks/telegram/webhook` |
| `rest` | `bot.channels.rest.CivicRestInput` | `/webhooks/rest/webhook` (server to server, bearer token) |
| `socketio` | `bot.channels.socketio.CivicSocketIOInput` | `/socket.io` (the web chat) |
| `links` | `bot.channels.links.LinkRedirect` | `/webhooks/links/go/<entry>/<variant>` (answers' links) |

What they share is in `base` (the webhook pipeline: size cap, signature first, duplicates,
background processing, the output-channel base), `store` (Redis), `http` (outgoing calls with
retries), `text` (pure helpers: splitting, titles, numbered options) and `config` (which channels
are switched on, and their credentials.yml sections). Who may say what: `offered` (only offered
button payloads reach Rasa as intents), `ratelimit` (token buckets for REST and socket.io),
`web` and `notices` (the two web channels' options and notices), `wording` (the channels' texts in
data/channels/messages.yml), `feedback` (where each channel puts a rated answer's two feedback
buttons, and SMS "Reply Y or N"). `migrate` and `commands`: `python -m bot channels migrate-ids`.
This package's `__init__` imports nothing, so `bot.channels.config` can be used without importing
Rasa.
"""
