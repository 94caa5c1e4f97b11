"""Species: review edits on a mask store, and a classifier trained from reviewed tracks.

Never imports torch or the engines: it reads stores (and the video they were made from) and
writes the object table, the labels array and an edit log back into the store.
"""
