"""The live drawing page and the JavaScript port, shipped as package data for `inkcast serve`."""
