import { describe, expect, it } from 'vitest';
import {
  CompactMerkleTree,
  consistencyProof,
  emptyRoot,
  hashLeafData,
  inclusionProof,
  subtreeRoot,
  verifyConsistency,
  verifyInclusion,
} from '@decisiontrail/core';

// Known answers from the Certificate Transparency / transparency-dev Merkle test data
// (testonly/constants.go and proof/verify_test.go): leaf inputs, roots of every prefix, and the
// published inclusion and consistency proofs.
const hex = (value: string): Uint8Array => Buffer.from(value, 'hex');
const toHex = (value: Uint8Array): string => Buffer.from(value).toString('hex');
const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
// [leaf index (0-based), tree size, path]
const INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
// [old size, new size, proof]
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

const leaves = LEAF_INPUTS.map((input) => hashLeafData(hex(input)));

describe('RFC 6962 / CT known answers', () => {
  it('empty root and every prefix root, incrementally and recursively', () => {
    expect(toHex(emptyRoot())).toBe(ROOTS[0]);
    const tree = new CompactMerkleTree();
    expect(toHex(tree.root())).toBe(ROOTS[0]);
    leaves.forEach((leaf, i) => {
      tree.append(leaf);
      expect(toHex(tree.root())).toBe(ROOTS[i + 1]);
      expect(toHex(subtreeRoot(leaves, 0, i + 1))).toBe(ROOTS[i + 1]);
    });
  });

  it('takes leaves as hex (how the verifiers keep them) to the same roots and state, and refuses other text', () => {
    const tree = new CompactMerkleTree();
    const fromBytes = new CompactMerkleTree();
    expect(tree.rootHex()).toBe(ROOTS[0]);
    leaves.forEach((leaf, i) => {
      // Upper case is the same hash; the tree keeps lower case.
      tree.appendHex(i % 2 === 0 ? toHex(leaf) : toHex(leaf).toUpperCase());
      fromBytes.append(leaf);
      expect(tree.rootHex()).toBe(ROOTS[i + 1]);
      expect(toHex(tree.root())).toBe(ROOTS[i + 1]);
      expect(tree.toJSON()).toEqual(fromBytes.toJSON());
    });
    expect(tree.toJSON().peaks.every((peak) => /^[0-9a-f]{64}$/.test(peak))).toBe(true);
    for (const bad of ['', 'zz'.repeat(32), toHex(leaves[0]!).slice(2), `${toHex(leaves[0]!)}00`]) {
      expect(() => tree.appendHex(bad)).toThrow(RangeError);
    }
    expect(tree.size).toBe(leaves.length);
    expect(tree.rootHex()).toBe(ROOTS[leaves.length]);
    expect(() => new CompactMerkleTree({ size: 1, peaks: ['zz'.repeat(32)] })).toThrow(RangeError);
  });

  it('compact state round-trips through JSON and keeps one peak per set bit', () => {
    const tree = new CompactMerkleTree();
    for (const leaf of leaves.slice(0, 7)) tree.append(leaf);
    const state = JSON.parse(JSON.stringify(tree)) as { size: number; peaks: string[] };
    expect(state.peaks).toHaveLength(3);
    const resumed = new CompactMerkleTree(state);
    resumed.append(leaves[7]!);
    expect(toHex(resumed.root())).toBe(ROOTS[8]);
    expect(() => new CompactMerkleTree({ size: 3, peaks: [] })).toThrow(RangeError);
  });

  for (const [index, size, path] of INCLUSION) {
    it(`inclusion proof of leaf ${index} in tree ${size}`, () => {
      const generated = inclusionProof(leaves.slice(0, size), index).map(toHex);
      expect(generated).toEqual(path);
      const proof = path.map(hex);
      expect(verifyInclusion(leaves[index]!, index, size, proof, hex(ROOTS[size]!))).toBe(true);
      // Corruptions from the reference test data generator: all must fail.
      expect(verifyInclusion(leaves[index]!, index + 1, size, proof, hex(ROOTS[size]!))).toBe(false);
      expect(verifyInclusion(leaves[index]!, index, size * 2, proof, hex(ROOTS[size]!))).toBe(false);
      expect(verifyInclusion(hashLeafData(hex('ff')), index, size, proof, hex(ROOTS[size]!))).toBe(false);
      expect(
        verifyInclusion(leaves[index]!, index, size, [...proof, hex(ROOTS[size]!)], hex(ROOTS[size]!)),
      ).toBe(false);
      expect(verifyInclusion(leaves[index]!, index, size, proof, emptyRoot())).toBe(false);
      proof.forEach((_, i) => {
        const bad = proof.map((p) => Buffer.from(p));
        bad[i]![0]! ^= 8;
        expect(verifyInclusion(leaves[index]!, index, size, bad, hex(ROOTS[size]!))).toBe(false);
      });
      if (proof.length > 0) {
        expect(verifyInclusion(leaves[index]!, index, size, proof.slice(0, -1), hex(ROOTS[size]!))).toBe(
          false,
        );
      }
    });
  }

  for (const [oldSize, newSize, path] of CONSISTENCY) {
    it(`consistency proof ${oldSize} → ${newSize}`, () => {
      expect(consistencyProof(leaves.slice(0, newSize), oldSize).map(toHex)).toEqual(path);
      const proof = path.map(hex);
      const oldRoot = hex(ROOTS[oldSize]!);
      const newRoot = hex(ROOTS[newSize]!);
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);
      if (proof.length === 0) return;
      expect(verifyConsistency(oldSize, newSize, newRoot, oldRoot, proof)).toBe(false);
      expect(verifyConsistency(oldSize - 1, newSize, oldRoot, newRoot, proof)).toBe(false);
      expect(verifyConsistency(oldSize, newSize * 2, oldRoot, newRoot, proof)).toBe(false);
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [])).toBe(false);
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
      expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [...proof, oldRoot])).toBe(false);
      proof.forEach((_, i) => {
        const bad = proof.map((p) => Buffer.from(p));
        bad[i]![0]! ^= 16;
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, bad)).toBe(false);
      });
    });
  }

  it('generated proofs verify for every index and size up to 40', () => {
    const many = Array.from({ length: 40 }, (_, i) => hashLeafData(Buffer.from([i])));
    for (let size = 1; size <= many.length; size++) {
      const prefix = many.slice(0, size);
      const root = subtreeRoot(prefix);
      for (let index = 0; index < size; index++) {
        expect(verifyInclusion(prefix[index]!, index, size, inclusionProof(prefix, index), root)).toBe(true);
      }
      for (let old = 1; old <= size; old++) {
        expect(
          verifyConsistency(old, size, subtreeRoot(prefix, 0, old), root, consistencyProof(prefix, old)),
        ).toBe(true);
      }
    }
  });
});
