"""Rooms, saved work, the teacher's view and the admission of lesson sockets."""
