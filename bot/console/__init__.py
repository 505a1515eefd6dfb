"""The signed-in web console: accounts, sign-in (throttled), sessions, the audit log page, the page
layout and the app that mounts the features (the handoff queue, the review inbox).

Features import the shell's pieces (`auth`, `session`, `layout`, `keys`); the shell imports the
features only in `bot.console.app`, to mount them.
"""
