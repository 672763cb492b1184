import Testing
// Placeholder so the package builds while this suite is written; replaced by real tests.
