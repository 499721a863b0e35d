"""Server features, one file each: ``setup(server)`` hooks the events a feature serves."""
