"""``ember.nn.functional``: the functional forms of layers and losses (one module per family)."""
