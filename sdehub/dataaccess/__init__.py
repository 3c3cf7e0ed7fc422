"""Data Access: hourly files of agent activity, web sessions, engagements and surveys."""
