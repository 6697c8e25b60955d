package tfevents

import "testing"

// CRC-32C's check value for "123456789" is 0xe3069283 (RFC 3720); masked by hand:
// rotate right 15 -> 0x2507c60d, plus 0xa282ead8 -> 0xc78ab0e5.
func TestMaskedCRC(t *testing.T) {
	if got := MaskedCRC([]byte("123456789")); got != 0xc78ab0e5 {
		t.Errorf("masked crc %#x, want 0xc78ab0e5", got)
	}
	if got := MaskedCRC(nil); got != 0xa282ead8 {
		t.Errorf("masked crc of nothing %#x, want 0xa282ead8", got)
	}
}
