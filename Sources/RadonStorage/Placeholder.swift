// Placeholder so the package builds while RadonStorage is written; replaced by its real files.
