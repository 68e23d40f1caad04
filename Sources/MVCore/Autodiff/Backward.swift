extension Tape {
    /// Routes a node to the VJP defined beside its forward op.
    func backwardNode(_ i: Int) {
        switch nodes[i].op {
        case .leaf:
            return
        case .add, .sub, .mul, .div, .scale, .addScalar, .neg, .square:
            backwardArithmetic(i)
        case .exp, .log, .softplus, .sigmoid, .relu, .leakyRelu, .tanh:
            backwardActivation(i)
        case .sum, .mean, .logsumexp, .softmax:
            backwardReduction(i)
        case .layerNorm:
            backwardNormalization(i)
        case .matmul, .transpose, .concatCols, .sliceCols, .sliceRows:
            backwardMatrixOp(i)
        case .bceWithLogits, .gaussianLogDensity, .laplaceLogDensity:
            backwardLogDensity(i)
        case .countNegativeLogLikelihood:
            backwardCountNegativeLogLikelihood(i)
        case .inverse, .solve, .cholesky, .logDet, .skewFromVector, .lowerFromVector:
            backwardSmallLinearAlgebra(i)
        case .linear, .sparseLinear, .bceRowSum, .reparameterize:
            backwardFused(i)
        case .conv2d, .convTranspose2d:
            backwardConvolution(i)
        case .maskedLinear:
            backwardMaskedLinear(i)
        case .weightedLogSumExp:
            backwardWeightedLogSumExp(i)
        case .maskedAttention, .reshape:
            backwardAttention(i)
        case .rowLowerTriangular, .rowMatVec, .rowGram, .rowLogDet:
            backwardRowMatrix(i)
        case .sumOverRanks:
            backwardSumOverRanks(i)
        }
    }
}
