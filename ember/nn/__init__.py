"""``ember.nn``: Parameter, Buffer, Module, containers, layers, losses, init, utils."""
