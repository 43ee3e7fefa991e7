"""What a run writes and shows: the result document and summary, trace files, graphs,
pictures, the sequence chart and the HTML page.
"""
