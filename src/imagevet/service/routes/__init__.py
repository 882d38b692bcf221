"""The service's HTTP surface, one router per resource (a module each, named after the URL it serves);
what they share (the runtime, a session, the scope a route needs, the image a path names) is in
``deps``. `service/app.py` only assembles them."""
