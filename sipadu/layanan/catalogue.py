"""The shipped document catalogue: the nine documents of the Dik Jamila Me-WA SOP with their
requirement checklists (Perpres 96/2018 and Permendagri 108/2019), the applicant data each
needs and what issuing produces.

This is data, loaded into :class:`DocumentType` / :class:`Requirement` by
:func:`sync_catalogue` (a data migration and the demo run it). Loading only adds what is
missing, so an administrator's edits in the admin are never overwritten.

A field code ending in ``?`` is optional for that document even when the field is required
elsewhere (the KK number of someone forming a new family).
"""

from __future__ import annotations

from typing import Any

# (code, text, help text, required, upload)
Req = tuple[str, str, str, bool, bool]

CATALOGUE: list[dict[str, Any]] = [
    {
        "code": "ktp-el",
        "name": "KTP-el",
        "description": "Penerbitan KTP-el baru, karena hilang, rusak, atau perubahan data. "
        "Perekaman biometrik harus sudah dilakukan.",
        "output_kind": "print_job",
        "registry_kind": "ktp_el_cetak",
        "number_prefix": "KTP",
        "legal_basis": "Perpres 96/2018 Pasal 13–15",
        "fields": ["nik", "full_name", "no_kk", "birth_date", "ktp_reason"],
        "requirements": [
            ("kk", "Kartu Keluarga (KK)", "Foto atau pindaian KK.", True, True),
            (
                "surat-kehilangan",
                "Surat keterangan kehilangan dari kepolisian",
                "Hanya jika KTP-el hilang.",
                False,
                True,
            ),
            ("ktp-rusak", "KTP-el yang rusak", "Hanya jika KTP-el rusak.", False, True),
            (
                "dokumen-perubahan",
                "Dokumen pendukung perubahan data",
                "Hanya jika ada perubahan data (mis. akta perkawinan, ijazah).",
                False,
                True,
            ),
        ],
    },
    {
        "code": "kk",
        "name": "Kartu Keluarga",
        "description": "Penerbitan KK baru, karena perubahan data, hilang, atau rusak.",
        "output_kind": "pdf",
        "registry_kind": "",
        "number_prefix": "KK",
        "legal_basis": "Perpres 96/2018 Pasal 11–12",
        "fields": ["nik", "full_name", "no_kk?", "birth_date", "kk_reason"],
        "requirements": [
            (
                "f101",
                "Formulir F-1.01 (biodata keluarga) yang diisi dan ditandatangani",
                "Formulir Permendagri 109/2019; tersedia di kantor desa/kelurahan.",
                True,
                True,
            ),
            (
                "buku-nikah",
                "Buku nikah / kutipan akta perkawinan atau kutipan akta perceraian",
                "Untuk membentuk keluarga baru.",
                False,
                True,
            ),
            ("kk-lama", "KK lama", "Untuk perubahan data atau KK rusak.", False, True),
            (
                "surat-pindah",
                "Surat keterangan pindah",
                "Jika anggota keluarga datang dari daerah lain.",
                False,
                True,
            ),
            (
                "surat-kehilangan",
                "Surat keterangan kehilangan dari kepolisian",
                "Hanya jika KK hilang.",
                False,
                True,
            ),
            (
                "f106",
                "Formulir F-1.06 (pernyataan perubahan elemen data)",
                "Untuk perubahan data.",
                False,
                True,
            ),
        ],
    },
    {
        "code": "kia",
        "name": "Kartu Identitas Anak",
        "description": "KIA untuk anak di bawah 17 tahun dan belum kawin.",
        "output_kind": "print_job",
        "registry_kind": "kia",
        "number_prefix": "KIA",
        "legal_basis": "Permendagri 2/2016; Perpres 96/2018",
        "fields": ["nik", "full_name", "birth_date", "no_kk", "father_name", "mother_name"],
        "requirements": [
            ("akta-kelahiran", "Kutipan akta kelahiran anak", "", True, True),
            ("kk", "KK orang tua/wali", "", True, True),
            ("ktp-ortu", "KTP-el kedua orang tua/wali", "", True, True),
            (
                "pas-foto",
                "Pas foto anak berwarna",
                "Untuk anak usia 5 tahun ke atas.",
                False,
                True,
            ),
        ],
    },
    {
        "code": "akta-kelahiran",
        "name": "Akta Kelahiran",
        "description": "Pencatatan kelahiran dan penerbitan kutipan akta kelahiran.",
        "output_kind": "pdf",
        "registry_kind": "akta_kelahiran",
        "number_prefix": "LU",
        "legal_basis": "Perpres 96/2018 Pasal 33–34",
        "fields": [
            "nik",
            "full_name",
            "sex",
            "birth_place",
            "birth_date",
            "no_kk",
            "father_name",
            "mother_name",
            "applicant_name",
        ],
        "requirements": [
            (
                "surat-kelahiran",
                "Surat keterangan kelahiran",
                "Dari rumah sakit, puskesmas, bidan, atau kepala desa/lurah.",
                True,
                True,
            ),
            ("kk", "Kartu Keluarga (KK)", "", True, True),
            ("ktp-ortu", "KTP-el orang tua", "", True, True),
            (
                "buku-nikah",
                "Buku nikah / kutipan akta perkawinan orang tua",
                "Jika tidak ada, SPTJM kebenaran sebagai pasangan suami istri (F-2.04).",
                False,
                True,
            ),
            (
                "sptjm",
                "SPTJM kebenaran data kelahiran (F-2.03)",
                "Jika tidak ada surat keterangan kelahiran.",
                False,
                True,
            ),
        ],
    },
    {
        "code": "akta-kematian",
        "name": "Akta Kematian",
        "description": "Pencatatan kematian dan penerbitan kutipan akta kematian.",
        "output_kind": "pdf",
        "registry_kind": "akta_kematian",
        "number_prefix": "KM",
        "legal_basis": "Perpres 96/2018 Pasal 44",
        "fields": [
            "nik",
            "full_name",
            "no_kk",
            "death_date",
            "death_place",
            "death_cause",
            "applicant_name",
            "reporter_relation",
        ],
        "requirements": [
            (
                "surat-kematian",
                "Surat kematian",
                "Dari dokter/paramedis atau kepala desa/lurah.",
                True,
                True,
            ),
            ("kk", "KK almarhum/almarhumah", "", True, True),
            ("ktp-pelapor", "KTP-el pelapor", "", True, True),
            ("ktp-almarhum", "KTP-el almarhum/almarhumah", "", False, True),
        ],
    },
    {
        "code": "akta-perkawinan",
        "name": "Akta Perkawinan",
        "description": "Pencatatan perkawinan bagi penduduk non-Muslim.",
        "output_kind": "pdf",
        "registry_kind": "akta_perkawinan",
        "number_prefix": "KW",
        "legal_basis": "Perpres 96/2018 Pasal 50",
        "fields": [
            "nik",
            "full_name",
            "spouse_nik",
            "spouse_name",
            "marriage_date",
            "marriage_place",
            "religious_leader",
        ],
        "requirements": [
            (
                "surat-pemuka-agama",
                "Surat keterangan telah terjadinya perkawinan dari pemuka agama",
                "",
                True,
                True,
            ),
            ("pas-foto", "Pas foto berdampingan suami dan istri", "", True, True),
            ("ktp-mempelai", "KTP-el kedua mempelai", "", True, True),
            ("kk-mempelai", "KK kedua mempelai", "", True, True),
            (
                "dokumen-wna",
                "Paspor dan izin perwakilan negara (bagi WNA)",
                "Hanya jika salah satu mempelai WNA.",
                False,
                True,
            ),
        ],
    },
    {
        "code": "akta-perceraian",
        "name": "Akta Perceraian",
        "description": "Pencatatan perceraian berdasarkan putusan pengadilan.",
        "output_kind": "pdf",
        "registry_kind": "akta_perceraian",
        "number_prefix": "CR",
        "legal_basis": "Perpres 96/2018 Pasal 51",
        "fields": [
            "nik",
            "full_name",
            "spouse_nik",
            "spouse_name",
            "court_decision_no",
            "court_decision_date",
        ],
        "requirements": [
            (
                "putusan",
                "Salinan putusan pengadilan yang telah berkekuatan hukum tetap",
                "",
                True,
                True,
            ),
            ("akta-perkawinan", "Kutipan akta perkawinan", "", True, True),
            ("ktp", "KTP-el", "", True, True),
            ("kk", "Kartu Keluarga (KK)", "", True, True),
        ],
    },
    {
        "code": "pengakuan-anak",
        "name": "Pengakuan Anak",
        "description": "Pencatatan pengakuan anak oleh ayah biologis dengan persetujuan ibu.",
        "output_kind": "pdf",
        "registry_kind": "",
        "number_prefix": "PA",
        "legal_basis": "Perpres 96/2018 Pasal 49",
        "fields": [
            "nik",
            "full_name",
            "birth_date",
            "no_kk",
            "father_nik",
            "father_name",
            "mother_name",
        ],
        "requirements": [
            (
                "surat-pengakuan",
                "Surat pengakuan anak dari ayah biologis yang disetujui ibu kandung",
                "Atau penetapan pengadilan.",
                True,
                True,
            ),
            ("akta-kelahiran", "Kutipan akta kelahiran anak", "", True, True),
            ("kk", "Kartu Keluarga (KK)", "", True, True),
            ("ktp-ortu", "KTP-el ayah dan ibu", "", True, True),
        ],
    },
    {
        "code": "pengesahan-anak",
        "name": "Pengesahan Anak",
        "description": "Pencatatan pengesahan anak setelah perkawinan orang tuanya.",
        "output_kind": "pdf",
        "registry_kind": "",
        "number_prefix": "SA",
        "legal_basis": "Perpres 96/2018 Pasal 50",
        "fields": [
            "nik",
            "full_name",
            "birth_date",
            "no_kk",
            "father_name",
            "mother_name",
            "marriage_cert_no",
        ],
        "requirements": [
            ("akta-kelahiran", "Kutipan akta kelahiran anak", "", True, True),
            (
                "akta-perkawinan",
                "Buku nikah / kutipan akta perkawinan orang tua",
                "",
                True,
                True,
            ),
            ("kk", "Kartu Keluarga (KK)", "", True, True),
            ("ktp-ortu", "KTP-el ayah dan ibu", "", True, True),
        ],
    },
]


def sync_catalogue(document_type_model: Any = None, requirement_model: Any = None) -> int:
    """Add the shipped document types and requirements that are missing; returns how many
    rows were created. Existing rows (possibly edited by an administrator) are left alone.

    The model classes may be passed in (a data migration passes its historical models).
    """
    if document_type_model is None or requirement_model is None:
        from sipadu.layanan.models import DocumentType, Requirement

        document_type_model, requirement_model = DocumentType, Requirement
    created = 0
    for order, entry in enumerate(CATALOGUE, start=1):
        doc, made = document_type_model.objects.get_or_create(
            code=entry["code"],
            defaults={
                "name": entry["name"],
                "description": entry["description"],
                "output_kind": entry["output_kind"],
                "registry_kind": entry["registry_kind"],
                "number_prefix": entry["number_prefix"],
                "legal_basis": entry["legal_basis"],
                "fields": entry["fields"],
                "order": order,
            },
        )
        created += int(made)
        if not made:
            # An existing type keeps its edited checklist; only a brand-new one is filled.
            continue
        for position, (code, text, help_text, required, upload) in enumerate(
            entry["requirements"], start=1
        ):
            requirement_model.objects.create(
                document_type=doc,
                code=code,
                text=text,
                help_text=help_text,
                required=required,
                upload=upload,
                order=position,
            )
            created += 1
    return created
