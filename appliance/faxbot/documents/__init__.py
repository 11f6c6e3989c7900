"""Turn an uploaded document into the PDF a transport sends.

An upload is judged by its content (`kinds`), never by its file name or the client's
content type: a PDF is kept as it is, UTF-8 plain text is rendered to a PDF (`text`), and the
pages are counted with pypdf (`pages`) so that the page limit holds for both. `prepare` does
all of it for one upload; the appliance calls it from a worker thread, since every step reads
or writes a whole file.
"""
