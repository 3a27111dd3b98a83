"""Action server: qualification logic, forms, answers and lead hand-over."""
