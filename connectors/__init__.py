"""Partner connectors: one package per partner, plus the shared HTTP layer and errors."""
