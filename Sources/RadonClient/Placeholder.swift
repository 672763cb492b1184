// Placeholder so the package builds while RadonClient is written; replaced by its real files.
