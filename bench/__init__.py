"""`make bench`: Modelyard under gunicorn against a bare-Django floor, measured with wrk."""
