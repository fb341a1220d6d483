"""Drawn faces and their eyes, found by a classical detector trained on our own data.

>>> import animefeat as af
>>> faces = af.detect_faces(af.load_image("drawing.png"))   # doctest: +SKIP
>>> faces[0].box, faces[0].score, faces[0].eyes              # doctest: +SKIP
"""

from .faces import Face, detect_faces

__all__ = ["Face", "detect_faces"]
