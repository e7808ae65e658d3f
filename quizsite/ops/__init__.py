"""What an operator watches: health, metrics, request ids and structured logs (README,
"Operations")."""
