"""Certificates for STARTTLS: they live in :mod:`xmpplab.certs`, below the server and replay."""

from ..certs import cache_dir, certificate_file, lab_ca, peer_domains, s2s_client_context, server_context

__all__ = ["cache_dir", "certificate_file", "lab_ca", "peer_domains", "s2s_client_context", "server_context"]
