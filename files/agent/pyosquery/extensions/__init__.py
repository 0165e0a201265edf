"""pyosquery.extensions: osquery's Thrift ExtensionManager API on a UNIX socket.

Nothing is imported here: thrift and the osquery SDK load only when a server or a
client module is imported, so the shell's plain start does not pay for them.
"""
