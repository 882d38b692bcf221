"""Recommendation: catalog + scenario profile + constraints -> ranked official images, explained."""
