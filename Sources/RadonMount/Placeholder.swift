// Placeholder so the package builds while RadonMount is written; replaced by its real files.
