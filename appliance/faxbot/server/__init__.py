"""The Litestar appliance: serves the fax API from the compiled artifact (app.create_app)."""
