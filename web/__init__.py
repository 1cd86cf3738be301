"""Bobbin's one ASGI app (Starlette, served by uvicorn: ``bobbin web``).

Today it holds the inbound event receiver (``POST /events/{site}``, ``web/events.py``) and a health
check; the operator console will be mounted into the same app (``web/app.py``). Starlette rather
than FastAPI: the console and the receiver share this app, and FastAPI's request models add
nothing for raw-body HMAC webhooks and server-rendered pages.
"""
