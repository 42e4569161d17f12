"""Monthly and yearly reports (Korean PDF and Excel) from Prometheus's recording rules and the IVR event store."""
