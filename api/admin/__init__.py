"""Admin web pages under /admin (server-rendered; no JS build step)."""
