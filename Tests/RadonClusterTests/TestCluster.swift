import RadonTestSupport

/// A real local cluster for one cluster test (`radonfs up --no-mount`, 4+2 unless asked
/// otherwise): the shared harness of RadonTestSupport, under the name these tests use.
typealias TestCluster = LocalCluster
