import Foundation
import MVCore
import MVModels

// Each family's joint generation from the prior, for joint coherence (see Coherence.swift).

/// JNF: z ~ N(0, I), every decoder.
extension JNF: JointGenerator {
    public func decodedPriorDraw(noise: EvaluationNoise, tape: Tape) throws -> [Var] {
        let z = tape.constant(noise.normals(cols: latent, stream: 5 << 20))
        return (0..<modalities).map { decode($0, z, tape: tape) }
    }
}

/// The aggregated VAE: z ~ N(0, I) and, with private latents, each z̃_s from its prior too.
extension AggregatedVAE: JointGenerator {
    public func decodedPriorDraw(noise: EvaluationNoise, tape: Tape) throws -> [Var] {
        let z = tape.constant(noise.normals(cols: latent, stream: 5 << 20))
        return (0..<viewDimensions.count).map { s in
            let input =
                privateLatents.map { p in tape.concatColumns(z, tape.constant(noise.normals(cols: p.size, stream: 5 << 20 + 1 + s))) } ?? z
            return decoders[s](input, tape: tape, arena: arena)
        }
    }
}
