// Known-answer vectors the agent runs through the helper before trusting it.
// BIP340: all 19 rows of bitcoin/bips bip-0340/test-vectors.csv (BSD-2-Clause OR MIT OR CC0;
// copy beside the tests as bip340-test-vectors.csv). SHA-256: the non-slow NIST FIPS 180
// examples (sha256-nist-vectors.json beside the tests). helper-vectors.test.ts checks both
// tables against those files, so an edit here cannot drift silently.

export interface Bip340Vector {
  readonly index: number;
  /** Empty when the row only tests verification. */
  readonly secretKey: string;
  readonly publicKey: string;
  readonly auxRand: string;
  readonly message: string;
  readonly signature: string;
  readonly valid: boolean;
}

export interface Sha256Vector {
  readonly name: string;
  readonly messageAscii: string;
  readonly repeat: number;
  readonly sha256: string;
}

export const BIP340_VECTORS: readonly Bip340Vector[] = [
  {
    index: 0,
    secretKey: '0000000000000000000000000000000000000000000000000000000000000003',
    publicKey: 'f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9',
    auxRand: '0000000000000000000000000000000000000000000000000000000000000000',
    message: '0000000000000000000000000000000000000000000000000000000000000000',
    signature: 'e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca821525f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0',
    valid: true,
  },
  {
    index: 1,
    secretKey: 'b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef',
    publicKey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
    auxRand: '0000000000000000000000000000000000000000000000000000000000000001',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: '6896bd60eeae296db48a229ff71dfe071bde413e6d43f917dc8dcf8c78de33418906d11ac976abccb20b091292bff4ea897efcb639ea871cfa95f6de339e4b0a',
    valid: true,
  },
  {
    index: 2,
    secretKey: 'c90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b14e5c9',
    publicKey: 'dd308afec5777e13121fa72b9cc1b7cc0139715309b086c960e18fd969774eb8',
    auxRand: 'c87aa53824b4d7ae2eb035a2b5bbbccc080e76cdc6d1692c4b0b62d798e6d906',
    message: '7e2d58d8b3bcdf1abadec7829054f90dda9805aab56c77333024b9d0a508b75c',
    signature: '5831aaeed7b44bb74e5eab94ba9d4294c49bcf2a60728d8b4c200f50dd313c1bab745879a5ad954a72c45a91c3a51d3c7adea98d82f8481e0e1e03674a6f3fb7',
    valid: true,
  },
  {
    index: 3,
    secretKey: '0b432b2677937381aef05bb02a66ecd012773062cf3fa2549e44f58ed2401710',
    publicKey: '25d1dff95105f5253c4022f628a996ad3a0d95fbf21d468a1b33f8c160d8f517',
    auxRand: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    message: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    signature: '7eb0509757e246f19449885651611cb965ecc1a187dd51b64fda1edc9637d5ec97582b9cb13db3933705b32ba982af5af25fd78881ebb32771fc5922efc66ea3',
    valid: true,
  },
  {
    index: 4,
    secretKey: '',
    publicKey: 'd69c3509bb99e412e68b0fe8544e72837dfa30746d8be2aa65975f29d22dc7b9',
    auxRand: '',
    message: '4df3c3f68fcc83b27e9d42c90431a72499f17875c81a599b566c9889b9696703',
    signature: '00000000000000000000003b78ce563f89a0ed9414f5aa28ad0d96d6795f9c6376afb1548af603b3eb45c9f8207dee1060cb71c04e80f593060b07d28308d7f4',
    valid: true,
  },
  {
    index: 5,
    secretKey: '',
    publicKey: 'eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: '6cff5c3ba86c69ea4b7376f31a9bcb4f74c1976089b2d9963da2e5543e17776969e89b4c5564d00349106b8497785dd7d1d713a8ae82b32fa79d5f7fc407d39b',
    valid: false,
  },
  {
    index: 6,
    secretKey: '',
    publicKey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: 'fff97bd5755eeea420453a14355235d382f6472f8568a18b2f057a14602975563cc27944640ac607cd107ae10923d9ef7a73c643e166be5ebeafa34b1ac553e2',
    valid: false,
  },
  {
    index: 7,
    secretKey: '',
    publicKey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: '1fa62e331edbc21c394792d2ab1100a7b432b013df3f6ff4f99fcb33e0e1515f28890b3edb6e7189b630448b515ce4f8622a954cfe545735aaea5134fccdb2bd',
    valid: false,
  },
  {
    index: 8,
    secretKey: '',
    publicKey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: '6cff5c3ba86c69ea4b7376f31a9bcb4f74c1976089b2d9963da2e5543e177769961764b3aa9b2ffcb6ef947b6887a226e8d7c93e00c5ed0c1834ff0d0c2e6da6',
    valid: false,
  },
  {
    index: 9,
    secretKey: '',
    publicKey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: '0000000000000000000000000000000000000000000000000000000000000000123dda8328af9c23a94c1feecfd123ba4fb73476f0d594dcb65c6425bd186051',
    valid: false,
  },
  {
    index: 10,
    secretKey: '',
    publicKey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: '00000000000000000000000000000000000000000000000000000000000000017615fbaf5ae28864013c099742deadb4dba87f11ac6754f93780d5a1837cf197',
    valid: false,
  },
  {
    index: 11,
    secretKey: '',
    publicKey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: '4a298dacae57395a15d0795ddbfd1dcb564da82b0f269bc70a74f8220429ba1d69e89b4c5564d00349106b8497785dd7d1d713a8ae82b32fa79d5f7fc407d39b',
    valid: false,
  },
  {
    index: 12,
    secretKey: '',
    publicKey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f69e89b4c5564d00349106b8497785dd7d1d713a8ae82b32fa79d5f7fc407d39b',
    valid: false,
  },
  {
    index: 13,
    secretKey: '',
    publicKey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: '6cff5c3ba86c69ea4b7376f31a9bcb4f74c1976089b2d9963da2e5543e177769fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141',
    valid: false,
  },
  {
    index: 14,
    secretKey: '',
    publicKey: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30',
    auxRand: '',
    message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
    signature: '6cff5c3ba86c69ea4b7376f31a9bcb4f74c1976089b2d9963da2e5543e17776969e89b4c5564d00349106b8497785dd7d1d713a8ae82b32fa79d5f7fc407d39b',
    valid: false,
  },
  {
    index: 15,
    secretKey: '0340034003400340034003400340034003400340034003400340034003400340',
    publicKey: '778caa53b4393ac467774d09497a87224bf9fab6f6e68b23086497324d6fd117',
    auxRand: '0000000000000000000000000000000000000000000000000000000000000000',
    message: '',
    signature: '71535db165ecd9fbbc046e5ffaea61186bb6ad436732fccc25291a55895464cf6069ce26bf03466228f19a3a62db8a649f2d560fac652827d1af0574e427ab63',
    valid: true,
  },
  {
    index: 16,
    secretKey: '0340034003400340034003400340034003400340034003400340034003400340',
    publicKey: '778caa53b4393ac467774d09497a87224bf9fab6f6e68b23086497324d6fd117',
    auxRand: '0000000000000000000000000000000000000000000000000000000000000000',
    message: '11',
    signature: '08a20a0afef64124649232e0693c583ab1b9934ae63b4c3511f3ae1134c6a303ea3173bfea6683bd101fa5aa5dbc1996fe7cacfc5a577d33ec14564cec2bacbf',
    valid: true,
  },
  {
    index: 17,
    secretKey: '0340034003400340034003400340034003400340034003400340034003400340',
    publicKey: '778caa53b4393ac467774d09497a87224bf9fab6f6e68b23086497324d6fd117',
    auxRand: '0000000000000000000000000000000000000000000000000000000000000000',
    message: '0102030405060708090a0b0c0d0e0f1011',
    signature: '5130f39a4059b43bc7cac09a19ece52b5d8699d1a71e3c52da9afdb6b50ac370c4a482b77bf960f8681540e25b6771ece1e5a37fd80e5a51897c5566a97ea5a5',
    valid: true,
  },
  {
    index: 18,
    secretKey: '0340034003400340034003400340034003400340034003400340034003400340',
    publicKey: '778caa53b4393ac467774d09497a87224bf9fab6f6e68b23086497324d6fd117',
    auxRand: '0000000000000000000000000000000000000000000000000000000000000000',
    message: '99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999',
    signature: '403b12b0d8555a344175ea7ec746566303321e5dbfa8be6f091635163eca79a8585ed3e3170807e7c03b720fc54c7b23897fcba0e9d0b4a06894cfd249f22367',
    valid: true,
  },
];

export const SHA256_VECTORS: readonly Sha256Vector[] = [
  { name: 'abc (24 bits)', messageAscii: 'abc', repeat: 1, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
  { name: 'empty string (0 bits)', messageAscii: '', repeat: 1, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  { name: '448-bit message', messageAscii: 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', repeat: 1, sha256: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1' },
  { name: '896-bit message', messageAscii: 'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu', repeat: 1, sha256: 'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1' },
  { name: 'one million \'a\' (8,000,000 bits)', messageAscii: 'a', repeat: 1000000, sha256: 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0' },
];
