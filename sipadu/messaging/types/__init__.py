"""Channel type plugins, one package each (registered in the app's ready())."""
