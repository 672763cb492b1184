// Placeholder so the package builds while RadonMeta is written; replaced by its real files.
