"""Who may do what: users and roles, passwords, API tokens, browser sessions and the access log."""
