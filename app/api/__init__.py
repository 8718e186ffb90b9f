"""One router a resource; each takes parameters in and answers with a response model's JSON."""
