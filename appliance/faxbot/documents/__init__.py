"""Turn an uploaded document into the PDF a transport sends.

An upload is judged by its content (`kinds`), never by its file name or the client's
content type: a PDF is kept as it is, UTF-8 plain text is rendered to a PDF (`text`), and the
pages are counted with PDFium (`pages`) so that the page limit holds for both. `prepare` does
all of it for one upload, held in memory or spilled to a file; the appliance calls it on the
event loop for small uploads and from a worker thread for large ones.
"""
