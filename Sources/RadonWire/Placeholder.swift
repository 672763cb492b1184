// Placeholder so the package builds while RadonWire is written; replaced by its real files.
