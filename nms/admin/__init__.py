"""The admin page: the telecom team adjusts the service in a browser (Flask, served by waitress)."""
