"""Flow collector: NetFlow v5, NetFlow v9 and IPFIX into Prometheus metrics."""
