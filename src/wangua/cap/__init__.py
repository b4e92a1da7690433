"""The price cap procedure (R-CAP): acceptances of the cap and the lottery among them."""
