"""A course's lessons as they are stored and shown: the lesson documents, their public shape and how a
duration reads. The course page shows them; the lessons domain (above) authors them."""
