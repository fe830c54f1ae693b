package mapping

import "sort"

// lookups are the searches candidates makes. indexed answers them from the
// resolver's indexes; linear scans every item with the same checks, the
// naive baseline `tillsync bench mapping` measures the indexes against.
type lookups interface {
	skuKey(key string) []int32
	gtinKey(key string) (int32, bool)
	variant(key string) []int32
	// nearSKU and nearGTIN call f with items that may be one edit away;
	// the caller verifies with singleEdit.
	nearSKU(key string, f func(int32))
	nearGTIN(key string, f func(int32))
	descSearch(q queryVec, n int) []scored
}

type indexed struct{ r *Resolver }

func (x indexed) skuKey(key string) []int32 { return x.r.bySKUKey[key] }
func (x indexed) gtinKey(key string) (int32, bool) {
	i, ok := x.r.cat.byGTIN[key]
	return itemID(i), ok
}
func (x indexed) variant(key string) []int32            { return x.r.variants[key] }
func (x indexed) nearSKU(key string, f func(int32))     { x.r.fuzzy.near('s', key, f) }
func (x indexed) nearGTIN(key string, f func(int32))    { x.r.fuzzy.near('g', key, f) }
func (x indexed) descSearch(q queryVec, n int) []scored { return x.r.text.search(q, n) }

type linear struct{ r *Resolver }

func (x linear) skuKey(key string) []int32 {
	var out []int32
	for i, k := range x.r.skuKeys {
		if k == key {
			out = append(out, int32(i))
		}
	}
	return out
}

func (x linear) gtinKey(key string) (int32, bool) {
	for i, ks := range x.r.gtinKeys {
		for _, k := range ks {
			if k == key {
				return int32(i), true
			}
		}
	}
	return 0, false
}

func (x linear) variant(key string) []int32 {
	var out []int32
	for i, it := range x.r.cat.items {
		if variantKey(it.SKU) == key {
			out = append(out, int32(i))
		}
	}
	return out
}

func (x linear) nearSKU(_ string, f func(int32)) {
	for i := range x.r.skuKeys {
		f(int32(i))
	}
}

func (x linear) nearGTIN(_ string, f func(int32)) {
	for i := range x.r.gtinKeys {
		f(int32(i))
	}
}

func (x linear) descSearch(q queryVec, n int) []scored {
	var out []scored
	for i := range x.r.cat.items {
		if s := x.r.text.sim(q, int32(i)); s > 0 {
			out = append(out, scored{int32(i), s})
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].score != out[b].score {
			return out[a].score > out[b].score
		}
		return out[a].item < out[b].item
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
