"""MicroBT Whatsminer (btminer): API v2 on 4028 and API v3 on 4433.

Reach it through :func:`drivers.open_driver`; ``make`` registers it (docs/adding-a-make.md).
"""
