"""Community champions: a volunteer who looks after a neighbourhood\x27s listings."""
