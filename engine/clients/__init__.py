"""Clients of the service API that ship with Baton: the demo, its history generator and
Try it's scratch runs. They use the services as any program would; services/ holds services.
"""
