"""Local emulators of the partner APIs, written from the partners' documentation."""
