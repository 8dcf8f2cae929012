"""Pre-order sync: what each linked store should show for each pre-sell product, pushed as the difference."""
