"""darkportal package."""
